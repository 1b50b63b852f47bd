"""Demo data for gridgov: a subdistrict modelled on 天桥区南村街道 (see shared/seed).

Plain modules, not a Django app. `gridgov seed --demo` runs them in order:
geography (region tree) → organisation (departments, staff, logins) → history (cases).
Everything is drawn from one `random.Random(seed)` so two runs give the same data.
"""

DEMO_SUBDISTRICT_CODE = "370105010"
DEMO_SUBDISTRICT_NAME = "南村街道"
DEMO_PASSWORD = "demo1234"
