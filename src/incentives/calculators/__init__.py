"""Calculator kinds: pure functions of their inputs and the evaluation date. One module per kind."""
