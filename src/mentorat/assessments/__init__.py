"""The yearly assessment of whether mentoring serves a child (CASF D221-34)."""
