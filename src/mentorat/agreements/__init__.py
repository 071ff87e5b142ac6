"""Association agreements (conventions, CASF D221-37): where an association's mentors may work."""
