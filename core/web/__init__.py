"""The web shell: login, the dashboard, and the frame plugin pages render inside."""
