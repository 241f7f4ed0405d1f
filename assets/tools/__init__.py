"""Data for the tool-use tasks: the knowledge base of facts."""
