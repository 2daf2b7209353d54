# The orchestrator-pact command in a container:
#   docker build -t orchestrator-pact .
#   docker run --rm orchestrator-pact verify          # the built-in contract
#   docker run --rm -e UIPATH_URI -e UIPATH_ORGANIZATION -e UIPATH_TENANT \
#     -e UIPATH_ORGANIZATION_ID -e UIPATH_CLIENT_ID -e UIPATH_CLIENT_SECRET orchestrator-pact verify
# Build stage: the release binary, with the contract built in. Runtime: a
# small non-root image with CA certificates (distroless cc: glibc, libgcc,
# ca-certificates; user 65532 "nonroot") and the binary alone.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --manifest-path provider/Cargo.toml \
 && cp target/release/orchestrator-pact /orchestrator-pact

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /orchestrator-pact /usr/local/bin/orchestrator-pact
ENV PACT_DO_NOT_TRACK=true
USER nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["orchestrator-pact"]
CMD ["verify"]
