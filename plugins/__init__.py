"""Section plugins shipped with ccbhub; each registers through the ccbhub.plugins entry points."""
