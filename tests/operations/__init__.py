"""Tests of heimdall/operations/: backups, restores, admin seeding; their scripts on PostgreSQL."""
