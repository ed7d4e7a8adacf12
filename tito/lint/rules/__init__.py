"""The lint rules. Each is `check(ctx) -> list[Finding]`, one concept per module."""
