# Sourced by the scripts that read UiPath's OpenAPI document of the Identity
# API. The document is an optional input: it is read where it lies and never
# copied into the repository. CI places a copy of the project's shared folder
# beside the clone, so there it is ../shared/reference/identity-openapi.yaml;
# elsewhere set IDENTITY_OPENAPI to a copy (a tenant serves one at
# https://{host}/{org}/identity_/swagger/external/swagger.json).
#
# identity_openapi WHAT_HAPPENS_INSTEAD prints the document's path when it is
# there; when it is not, it prints nothing and says on stderr what is missing,
# how to supply it and WHAT_HAPPENS_INSTEAD. An IDENTITY_OPENAPI that names no
# file is a mistake, not an absence: the script stops (exit 2).
identity_openapi() {
  local spec="${IDENTITY_OPENAPI:-../shared/reference/identity-openapi.yaml}"
  if [[ -f "$spec" ]]; then
    echo "$spec"
  elif [[ -n "${IDENTITY_OPENAPI:-}" ]]; then
    echo "error: IDENTITY_OPENAPI=$spec is not a file: point it at UiPath's OpenAPI document, or unset it" >&2
    exit 2
  else
    echo "UiPath's OpenAPI document is not at $spec (an optional input, outside the repository: set IDENTITY_OPENAPI=FILE to use a copy elsewhere): $1" >&2
  fi
}
