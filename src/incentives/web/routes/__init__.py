"""HTTP routers, one small module per area; create_app() includes each."""
