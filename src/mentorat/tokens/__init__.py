"""API tokens and the principals holding them."""
