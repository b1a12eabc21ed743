"""Auto attendants: the domain's menus, one per attendant extension and time frame."""
