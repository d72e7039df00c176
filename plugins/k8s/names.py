"""Kubernetes names and label values made from Flyte identifiers: DNS-1123 sanitising and the namespace template."""

from __future__ import annotations

import hashlib
import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*[.$]?\s*([A-Za-z_]\w*)\s*\}\}")


def is_dns1123_label(name: str) -> bool:
    return len(name) <= DNS1123_LABEL_MAX and bool(_DNS1123_LABEL.match(name))


def is_dns1123_subdomain(name: str) -> bool:
    return len(name) <= DNS1123_SUBDOMAIN_MAX and bool(_DNS1123_SUBDOMAIN.match(name))


def _digest(text: str, size: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def dns1123_label(text: str, max_length: int = DNS1123_LABEL_MAX) -> str:
    """`text` as a valid DNS-1123 label (a pod or namespace name), unchanged if it already is one.

    Lower-cases, turns every run of other characters into `-`, trims `-` from the ends; a name that
    had to be shortened keeps a hash of the original at its end, so distinct inputs stay distinct.
    """
    if is_dns1123_label(text) and len(text) <= max_length:
        return text
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
    if len(name) > max_length or name != text:
        suffix = _digest(text)
        name = f"{name[: max_length - len(suffix) - 1].rstrip('-')}-{suffix}".lstrip("-")
    return name


def label_value(text: str) -> str:
    """`text` as a valid label value (at most 63 characters of `[-A-Za-z0-9_.]`, alphanumeric at both ends)."""
    if _LABEL_VALUE.match(text) and len(text) <= DNS1123_LABEL_MAX:
        return text
    value = re.sub(r"[^-A-Za-z0-9_.]+", "-", text)
    value = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)
    if len(value) > DNS1123_LABEL_MAX or value != text:
        suffix = _digest(text)
        value = re.sub(r"[^A-Za-z0-9]+$", "", value[: DNS1123_LABEL_MAX - len(suffix) - 1])
        value = f"{value}-{suffix}" if value else suffix
    return value


def label_key(text: str) -> str:
    """`text` as a valid label key: `[prefix/]name` kept when valid (the prefix a DNS subdomain), else sanitised."""
    prefix, _, name = text.rpartition("/")
    if (not prefix or is_dns1123_subdomain(prefix)) and name and _LABEL_VALUE.match(name) and len(name) <= 63:
        return text
    return label_value(text)


def render_template(template: str, values: dict[str, str]) -> str:
    """`{{ project }}`-style variables (also `{{ .Project }}`, case-insensitive) replaced; unknown ones refused."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        if name not in values:
            raise ValueError(f"unknown variable {match.group(0)!r} in {template!r} (known: {', '.join(values)})")
        return values[name]

    return _TEMPLATE_VARIABLE.sub(substitute, template)


def namespace_for(template: str, project: str, domain: str) -> str:
    """The namespace of an execution of `project`/`domain`, from a template such as `{{ project }}-{{ domain }}`."""
    return dns1123_label(render_template(template, {"project": project, "domain": domain}))
