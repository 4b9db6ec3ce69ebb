#!/bin/sh
# Writes the secrets compose.yaml reads, into ./secrets beside this script (or the directory given):
#   relais.json         RELAIS_JWT_SECRET, RELAIS_ADMIN_KEY, RELAIS_CLUSTER_SECRET, shared by every
#                       node (read through RELAIS_CONFIG_FILE, so they stay out of `docker inspect`)
#   redis-password      Valkey's password for relais (RELAIS_REDIS_PASSWORD_FILE)
#   valkey-users.acl    Valkey's user: that password's SHA-256 only, relais's keys and commands only
# The TLS certificate (secrets/tls.pem) is yours to add. Existing files are never overwritten.
set -eu
dir=${1:-"$(dirname "$0")/secrets"}
for file in relais.json redis-password valkey-users.acl; do
  if [ -e "$dir/$file" ]; then
    echo "make-secrets: $dir/$file exists; remove the old secrets first to make new ones" >&2
    exit 1
  fi
done
umask 077
mkdir -p "$dir"
# 36 random bytes: 48 characters of base64url (the nodes want at least 32).
key() { head -c 36 /dev/urandom | base64 | tr '+/' '-_'; }

printf '{\n  "RELAIS_JWT_SECRET": "%s",\n  "RELAIS_ADMIN_KEY": "%s",\n  "RELAIS_CLUSTER_SECRET": "%s"\n}\n' \
  "$(key)" "$(key)" "$(key)" >"$dir/relais.json"

password=$(key)
printf '%s\n' "$password" >"$dir/redis-password"
hash=$(printf '%s' "$password" | sha256sum | cut -d ' ' -f 1)
# One user, `default`, as relais authenticates (RELAIS_REDIS_URL without a user name, the password
# from RELAIS_REDIS_PASSWORD_FILE): limited to relais's keys and channels (relais:*) and the
# Socket.IO streams adapter's (socket.io*, its defaults), no @dangerous command (FLUSHALL, KEYS,
# CONFIG, DEBUG...). Only the password's SHA-256 is stored here.
cat >"$dir/valkey-users.acl" <<ACL
user default on resetpass #$hash resetkeys resetchannels ~relais:* ~socket.io* &relais:* &socket.io* -@all +@read +@write +@pubsub +@transaction +@connection +@scripting -@dangerous
ACL

# The containers read these as their own users (relais 10001, valkey 999, haproxy 99): the files
# are readable by all, the directory by its owner only.
chmod 0444 "$dir/relais.json" "$dir/redis-password" "$dir/valkey-users.acl"
chmod 0700 "$dir"
echo "make-secrets: wrote $dir/relais.json, redis-password, valkey-users.acl; add $dir/tls.pem (certificate, chain, key)"
