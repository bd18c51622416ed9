"""Tests of heimdall/tooling/: render CLI, deploy plan, from-helm, reference, schema."""
