"""Children in ASE care: the minimum that matching and follow-up need."""
