"""Deploy the reference services in containers: images, topologies, lifecycle, manifests.

``archsim deploy up STYLE`` builds what is missing (:mod:`.images`), starts the containers a
style needs (:mod:`.topology`) with the container engine (:mod:`.engine`) and waits until the
entry point answers (:mod:`.lifecycle`). The same topologies are written as Kubernetes and
compose manifests by :mod:`.manifests` (adapted for ``podman kube play`` by :mod:`.kubeplay`).
``archsim deploy rollout`` replaces a replicated group's containers step by step (:mod:`.rollout`).
"""
