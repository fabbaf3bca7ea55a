"""hotline: event-sourced tracker for 12345/12315 hotline work orders (工单)."""
