"""``python -m simulators.customer_connect``: the same command as ``ccbhub simulate customer-connect``."""

from simulators.customer_connect.cli import customer_connect_command

if __name__ == "__main__":
    customer_connect_command()
