"""The legal offer of a mentor to a child, and the answers to it."""
