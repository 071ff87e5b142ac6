"""Where each child stands in the legal duty's chain, and what the educators must do next."""
