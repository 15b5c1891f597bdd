"""The router: routes each inbound contact to the best eligible agent and tracks it until completion."""
