"""Ray tasks the KubeRay end-to-end tests register (their own package: it needs flytekitplugins-ray and ray)."""
