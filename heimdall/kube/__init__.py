"""Shapes every Kubernetes object of the stack repeats, one module per concern:

- `meta`: labels, selectors and object metadata;
- `security`: the hardened pod and container security contexts;
- `placement`: nodeSelector, tolerations, pull secrets, affinity and topology spread;
- `pods`: the small shared pieces of a pod (env references, resources, scratch volume,
  the shipped scripts, additions other components contribute);
- `database_client`: what a pod needs to reach the database from a `DatabaseConnection`;
- `stack_metadata`: the transform that adds the user's labels and annotations.

Import the module you use; nothing here reads the stack's settings (the callers pass what
they need). The user's extra labels and annotations are not added here: the `Heimdall`
component's transform adds them to every object (heimdall/kube/stack_metadata.py).
"""
