"""Word lists for synthetic customers: made up for this mock, LA-flavoured, never real people.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

# Whitespace-separated lists keep the data compact; a multi-word street uses an underscore.
FIRST_NAMES = tuple(
    """
    Maria Jose James Linda Carlos Patricia Luis Jennifer David Elizabeth Juan Susan Robert Guadalupe
    Michael Karen Daniel Nancy Kevin Lisa Miguel Sandra Jorge Ashley Anthony Kimberly Christopher Rosa
    Brian Ana Steven Veronica Eric Angela Oscar Michelle Thomas Laura Edgar Grace Hiroshi Mei Minh Ji-woo
    Arman Tamar Samuel Ruth Isaac Leticia Andre Keisha Marcus Tanya Ramon Irma Victor Yolanda Ernesto Alma
    """.split()
)
LAST_NAMES = tuple(
    """
    Garcia Hernandez Martinez Lopez Gonzalez Rodriguez Perez Sanchez Ramirez Flores Smith Johnson Williams
    Brown Jones Davis Miller Wilson Anderson Taylor Kim Lee Park Nguyen Tran Chen Wong Santos Cruz Reyes
    Morales Ortiz Gutierrez Chavez Vasquez Castillo Jackson White Harris Thompson Petrosyan Sarkisian
    Cohen Levy Tanaka Yamamoto Okafor Mendoza Aguilar Romero
    """.split()
)
STREETS = tuple(
    name.replace("_", " ")
    for name in """
    Sunset Figueroa Vermont Western Crenshaw La_Brea Fairfax Pico Olympic Venice Washington Adams
    Jefferson Slauson Florence Manchester Sepulveda Ventura Victory Vanowen Sherman Roscoe Nordhoff
    Devonshire Reseda Tampa Balboa Woodley Laurel_Canyon Lankershim Colfax Tujunga Glenoaks Foothill
    Eagle_Rock York Alvarado Hoover Normandie Gaffey Anaheim
    """.split()
)
STREET_KINDS = ("St", "Ave", "Blvd", "Dr", "Pl", "Way")
AREA_CODES = ("213", "323", "310", "424", "818", "747")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# ZIP, mailing city, service-area code, electric temperature zone (§2.2), water temperature zone (§2.3).
# Zone 1 is coastal/downtown, zone 2 mostly the Valley; water zones run low at the coast to high inland.
ZIPS = (
    ("90012", "Los Angeles", "MET", "1", "medium"),
    ("90026", "Los Angeles", "MET", "1", "medium"),
    ("90027", "Los Angeles", "MET", "1", "medium"),
    ("90028", "Los Angeles", "MET", "1", "medium"),
    ("90004", "Los Angeles", "MET", "1", "medium"),
    ("90019", "Los Angeles", "MID", "1", "medium"),
    ("90034", "Los Angeles", "WLA", "1", "low"),
    ("90049", "Los Angeles", "WLA", "1", "low"),
    ("90066", "Los Angeles", "WLA", "1", "low"),
    ("90272", "Pacific Palisades", "WLA", "1", "low"),
    ("90291", "Venice", "WLA", "1", "low"),
    ("90045", "Los Angeles", "WLA", "1", "low"),
    ("90731", "San Pedro", "HAR", "1", "low"),
    ("90744", "Wilmington", "HAR", "1", "low"),
    ("90003", "Los Angeles", "SLA", "1", "medium"),
    ("90044", "Los Angeles", "SLA", "1", "medium"),
    ("90042", "Los Angeles", "NEA", "1", "medium"),
    ("90065", "Los Angeles", "NEA", "1", "medium"),
    ("91401", "Van Nuys", "SFV", "2", "high"),
    ("91405", "Van Nuys", "SFV", "2", "high"),
    ("91343", "North Hills", "SFV", "2", "high"),
    ("91324", "Northridge", "SFV", "2", "high"),
    ("91364", "Woodland Hills", "SFV", "2", "high"),
    ("91331", "Pacoima", "SFV", "2", "high"),
    ("91352", "Sun Valley", "SFV", "2", "high"),
    ("91604", "Studio City", "SFV", "2", "high"),
    ("91606", "North Hollywood", "SFV", "2", "high"),
    ("91042", "Tujunga", "SFV", "2", "high"),
)
