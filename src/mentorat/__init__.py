"""mentorat: mentors for children in ASE care."""
