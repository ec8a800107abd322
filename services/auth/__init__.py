"""Who may do what: roles and their permissions, local accounts, and the signed-in person."""
