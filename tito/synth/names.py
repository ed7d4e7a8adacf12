"""A small fixed list of names for synthetic rosters (diverse on purpose: accents, apostrophes,
hyphens and particles are what LMS exports mangle, so the collection code must see them)."""

FIRST_NAMES = (
    "Amara", "Ben", "Chen", "Dana", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jamal",
    "Kavya", "Liam", "Maya", "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoë", "José", "Anna", "Mateo", "Freya",
)

LAST_NAMES = (
    "Adeyemi", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García-López", "Haddad", "Ito",
    "Jones", "Kowalski", "Li", "Müller", "Nguyen", "O'Brien", "Patel", "Quispe", "Rossi", "Singh",
    "Tanaka", "Umar", "van der Berg", "Wang", "Xu", "Yilmaz", "Zhang", "Novak", "Silva", "Kim", "Okafor",
)
