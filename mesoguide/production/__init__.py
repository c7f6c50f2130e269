"""The production profile: nginx in front, PostgreSQL and Redis behind, replicas that survive a
kill (``make run-production``, ``docs/production.md``).

One configuration (:mod:`.config`, from ``production.yml`` and ``MESOGUIDE_PROD_*``) feeds the
processes this machine runs (:mod:`.supervisor`) and the container and Kubernetes files in
``deploy/`` (:mod:`.deploy`), so the two cannot drift.
"""
