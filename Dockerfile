# The release binary with PostgreSQL over TLS, on a slim runtime image.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY config config
COPY migrations migrations
COPY seed seed
COPY src src
RUN cargo build --release --locked --features postgres-tls

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/portal --create-home portal
COPY --from=build /src/target/release/portal /usr/local/bin/portal
USER portal
WORKDIR /var/lib/portal
ENV APP_ENV=production
EXPOSE 8080
ENTRYPOINT ["portal"]
CMD ["serve"]
