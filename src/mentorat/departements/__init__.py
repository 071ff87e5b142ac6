"""The authorities that run the ASE: départements and métropoles."""
