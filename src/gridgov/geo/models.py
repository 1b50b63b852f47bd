"""The region tree: district (区) → subdistrict (街道) → community (社区/村) → grid (网格).

Codes are hierarchical (domain.md §2): a district has the 6-digit GB/T 2260 code, a
subdistrict adds 3 digits, a community 3 more and a grid 3 more (15 digits). A node's code
therefore starts with its parent's, and a subtree is `code__startswith`: that is what scope
restriction uses everywhere.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q


class Level(models.TextChoices):
    DISTRICT = "district", _("District")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")


# Code length at each level of the tree.
CODE_LENGTH = {Level.DISTRICT: 6, Level.SUBDISTRICT: 9, Level.COMMUNITY: 12, Level.GRID: 15}
PARENT_LEVEL = {Level.SUBDISTRICT: Level.DISTRICT, Level.COMMUNITY: Level.SUBDISTRICT, Level.GRID: Level.COMMUNITY}


class GridType(models.TextChoices):
    BASIC = "basic", _("Basic grid")
    DEDICATED = "dedicated", _("Dedicated grid")


class RegionQuerySet(RestrictedQuerySet):
    action_prefix = "region"

    def scope_q(self, user):
        return region_subtree_q(user, "code")

    def subtree(self, code):
        return self.filter(code__startswith=code)

    def grids(self):
        return self.filter(level=Level.GRID)


class Region(models.Model):
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, db_index=True)
    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS84, as a dict.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    grid_type = models.CharField(_("grid type"), max_length=12, choices=GridType.choices, blank=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    # Derived from the boundary on save; used for map fitting and quick prefilters.
    centroid_lon = models.FloatField(_("centroid longitude"), null=True, blank=True)
    centroid_lat = models.FloatField(_("centroid latitude"), null=True, blank=True)
    bbox = models.JSONField(_("bounding box"), null=True, blank=True)
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def is_grid(self):
        return self.level == Level.GRID

    def ancestors_codes(self):
        """Codes of this node and every ancestor, root first."""
        return [self.code[:n] for n in (6, 9, 12, 15) if n <= len(self.code)]


class GeoIndexVersion(models.Model):
    """One row whose token changes whenever any region boundary changes.

    Every process caches the locator index; it compares this token (at most every half
    second) to notice changes made by other processes. A random token rather than a
    counter: a change rolled back in one process can never collide with another
    process's committed change.
    """

    token = models.CharField(_("token"), max_length=32, default="")
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("geo index version")
        verbose_name_plural = _("geo index versions")

    def __str__(self):
        return self.token


class Estate(models.Model):
    """A residential estate (小区) with its property company, for the 智慧物业 figures.

    Cases are linked to an estate by location: the estate whose boundary contains the
    case's point, else the estate whose centre is nearest within
    gridgov.geo.estates.CENTRE_RADIUS_M (estates entered without a boundary).
    """

    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="estates", verbose_name=_("community"),
        limit_choices_to={"level": Level.COMMUNITY},
    )
    # GeoJSON Polygon or MultiPolygon in WGS84, or none: then the centre point is used.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    centre_lon = models.FloatField(_("centre longitude"))
    centre_lat = models.FloatField(_("centre latitude"))
    property_company = models.CharField(_("property company"), max_length=100, blank=True)
    households = models.PositiveIntegerField(_("households"), default=0)

    class Meta:
        verbose_name = _("estate")
        verbose_name_plural = _("estates")
        ordering = ["community__code", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="geo_estate_community_name")]

    def __str__(self):
        return self.name


class PlaceKind(models.TextChoices):
    ESTATE = "estate", _("Estate")
    BUILDING = "building", _("Building")
    ROAD = "road", _("Road")
    SHOP = "shop", _("Shop")
    OTHER = "other", _("Other")


class PlaceQuerySet(RestrictedQuerySet):
    action_prefix = "region"

    def scope_q(self, user):
        return region_subtree_q(user, "grid__code")


class Place(models.Model):
    """A named place in a grid (estate, building, road, shop) that address text is matched
    against (gridgov.geo.addresses). `key` is the normalised name, kept for lookups."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=PlaceKind.choices, default=PlaceKind.OTHER)
    aliases = models.JSONField(_("aliases"), default=list, blank=True)
    grid = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="places", verbose_name=_("grid"),
        limit_choices_to={"level": Level.GRID},
    )
    # WGS84; when absent the grid's representative point is used.
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    key = models.CharField(_("normalised key"), max_length=100, db_index=True, editable=False)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["grid__code", "name"]
        constraints = [models.UniqueConstraint(fields=["grid", "name"], name="geo_place_grid_name")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from .addresses import normalise

        self.key = normalise(self.name)[:100]
        super().save(*args, **kwargs)
