"""Customer service: tickets with service-level targets, the knowledge base of solutions,
satisfaction surveys and the service–profit chain (DOMAIN.md §6 and §7)."""
