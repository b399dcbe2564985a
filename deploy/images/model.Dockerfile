# syntax=docker/dockerfile:1
# A trained model as a versioned artifact: only the model file and its
# checksum, copied into the Rasa pods' /models by an init container
# (deploy/k8s/rasa.yaml). Build it once per `make model`:
#
#   make model            # prints MODEL_VERSION=hotline-<date>-<fingerprint>
#   docker build -f deploy/images/model.Dockerfile \
#     --build-arg MODEL_VERSION=hotline-<date>-<fingerprint> -t hotline-model:hotline-<date>-<fingerprint> .
#
# The tag is the version: rolling back is deploying the previous tag
# (docs/deploy.md, "Model rollback").

FROM busybox:1.36
ARG MODEL_VERSION
RUN test -n "$MODEL_VERSION" || (echo "--build-arg MODEL_VERSION=... is required" >&2; exit 1)
COPY models/${MODEL_VERSION}.tar.gz models/${MODEL_VERSION}.tar.gz.sha256 /models/
RUN cd /models && sha256sum -c "${MODEL_VERSION}.tar.gz.sha256"
USER 10001:10001
CMD ["sh", "-c", "cp /models/* /target/ && ls -l /target"]
