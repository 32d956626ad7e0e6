"""The mailing-list door: follow a list archive, review each series, reply on the list."""
