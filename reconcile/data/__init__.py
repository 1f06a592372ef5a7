"""Files shipped inside the package: mappings.yaml is the repository's own (a symlink in a checkout)."""
