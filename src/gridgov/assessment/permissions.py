"""Permission actions of the assessment app (added to the one ROLE_ACTIONS table)."""

from gridgov.org.permissions import GRID_STAFF, LEADERS, ROLE_ACTIONS
from gridgov.org.roles import Role

# Who sets manual points: the grid lead and the community secretary (the brief's 考核 rule).
ADJUSTERS = frozenset({Role.GRID_LEAD, Role.COMMUNITY_SECRETARY})
# Who sees other people's sheets (within their region subtree); everyone else only their own.
SHEET_READERS = frozenset(LEADERS | {Role.GRID_LEAD})

ROLE_ACTIONS.update(
    {
        "scoresheet.view": GRID_STAFF | LEADERS,
        "scoresheet.generate": ADJUSTERS | {Role.GRID_SECRETARY, Role.SUBDISTRICT_LEADER},
        "scoresheet.adjust": ADJUSTERS,
        "scoresheet.lock": frozenset({Role.COMMUNITY_SECRETARY}),
        "assessment_rule.view": GRID_STAFF | LEADERS,
        "assessment_rule.change": frozenset(),
        "grid_meeting.view": GRID_STAFF | LEADERS,
        "grid_meeting.record": frozenset({Role.GRID_LEAD, Role.GRID_SECRETARY, Role.COMMUNITY_SECRETARY}),
    }
)
