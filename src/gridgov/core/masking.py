"""Masking of personal data for display (PIPL: masked by default)."""


def mask_phone(phone):
    """138****1234 for mobile numbers; keep only the last four digits of anything else."""
    if not phone:
        return ""
    digits = str(phone)
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_id_number(number):
    """3701**********1234: the first four and the last four characters stay."""
    if not number:
        return ""
    text = str(number)
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_name(name):
    """张** : the family name stays."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
