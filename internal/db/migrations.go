package db

// migrations is the whole schema history, oldest first. Append only: a step
// that has shipped is never edited, a change is a new step.
var migrations = []Migration{
	{
		Version: 1,
		Name:    "users",
		Generic: []string{
			`CREATE TABLE users (
				username   VARCHAR(64)  NOT NULL,
				domain     VARCHAR(190) NOT NULL,
				ha1_md5    CHAR(32)     NOT NULL,
				ha1_sha256 CHAR(64)     NOT NULL,
				created_at BIGINT       NOT NULL,
				PRIMARY KEY (username, domain))`,
		},
	},
	{
		// The location service (internal/location/sqlstore). The primary key is
		// (aor, contact_hash), the SHA-256 of the contact in hex, because a
		// contact can be longer than MySQL allows in an index. Text that is
		// compared or sorted uses byte order on every database (on MySQL the
		// AOR is VARBINARY: its _bin collations ignore trailing spaces).
		Version: 2,
		Name:    "location",
		Generic: locationTable("VARCHAR(255)", "TEXT", ""),
		SQL: map[Dialect][]string{
			Postgres: locationTable(`VARCHAR(255) COLLATE "C"`, `TEXT COLLATE "C"`, ""),
			MySQL: locationTable("VARBINARY(255)", "TEXT",
				" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
		},
	},
	{
		// Call records (internal/acc): one row per routed INVITE, keyed by the
		// record's id so a retried batch inserts nothing twice. Times are Unix
		// milliseconds, 0 when the event did not happen; targets are joined by
		// "\n". caller and callee are indexed with invite_at for `parley cdr
		// list --user`; on MySQL they compare in byte order (utf8mb4_bin).
		Version: 3,
		Name:    "cdr",
		Generic: cdrTable(""),
		SQL: map[Dialect][]string{
			MySQL: cdrTable(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
		},
	},
	{
		// Management: administrator accounts of the REST API and web console
		// (PBKDF2-SHA256 password hashes), and the served domains (--domain
		// seeds them; the API adds and removes them).
		Version: 4,
		Name:    "admins and domains",
		Generic: []string{
			`CREATE TABLE admins (
				name       VARCHAR(64)  NOT NULL PRIMARY KEY,
				pw_hash    VARCHAR(200) NOT NULL,
				created_at BIGINT       NOT NULL)`,
			`CREATE TABLE domains (
				name       VARCHAR(190) NOT NULL PRIMARY KEY,
				created_at BIGINT       NOT NULL)`,
		},
	},
	{
		// Server secrets shared by every instance on this database, made once
		// at first start (db.Secret): the key that signs the flow tokens in
		// the proxy's Record-Route URIs, so a restart or another instance
		// accepts the Record-Routes of the others. value is lowercase hex.
		Version: 5,
		Name:    "secrets",
		Generic: []string{
			`CREATE TABLE secrets (
				name       VARCHAR(64)  NOT NULL PRIMARY KEY,
				value      VARCHAR(256) NOT NULL,
				created_at BIGINT       NOT NULL)`,
		},
	},
	{
		// A counter that every change to users (through internal/users)
		// increments, so that an instance may answer digest challenges from
		// the credentials it has read while the counter has not moved: a
		// change made by another process or instance is seen within a second
		// (internal/users, doc.go).
		Version: 6,
		Name:    "users version",
		Generic: []string{
			`CREATE TABLE users_version (
				id      INTEGER NOT NULL PRIMARY KEY,
				version BIGINT  NOT NULL)`,
			`INSERT INTO users_version (id, version) VALUES (1, 0)`,
		},
	},
}

// locationTable is migration 2 with the dialect's key and text column types.
// It has shipped: do not edit it, add a step.
func locationTable(key, text, options string) []string {
	return []string{
		`CREATE TABLE location (
			aor          ` + key + ` NOT NULL,
			contact_hash CHAR(64)     NOT NULL,
			contact      ` + text + ` NOT NULL,
			q            INTEGER      NOT NULL,
			expires      BIGINT       NOT NULL,
			call_id      TEXT         NOT NULL,
			cseq         BIGINT       NOT NULL,
			path         TEXT         NOT NULL,
			received     TEXT         NOT NULL,
			transport    VARCHAR(16)  NOT NULL,
			source_addr  VARCHAR(128) NOT NULL,
			local_addr   VARCHAR(128) NOT NULL,
			conn_id      BIGINT       NOT NULL,
			instance     VARCHAR(128) NOT NULL,
			user_agent   TEXT         NOT NULL,
			sip_instance TEXT         NOT NULL,
			reg_id       INTEGER      NOT NULL,
			updated      BIGINT       NOT NULL,
			PRIMARY KEY (aor, contact_hash))` + options,
		`CREATE INDEX location_expires ON location (expires)`,
		`CREATE INDEX location_conn ON location (instance, conn_id)`,
	}
}

// cdrTable is migration 3 with the dialect's table options.
// It has shipped: do not edit it, add a step.
func cdrTable(options string) []string {
	return []string{
		`CREATE TABLE cdr (
			id          VARCHAR(128) NOT NULL,
			call_id     TEXT         NOT NULL,
			from_uri    TEXT         NOT NULL,
			from_name   TEXT         NOT NULL,
			to_uri      TEXT         NOT NULL,
			request_uri TEXT         NOT NULL,
			caller      VARCHAR(255) NOT NULL,
			callee      VARCHAR(255) NOT NULL,
			source      TEXT         NOT NULL,
			transport   VARCHAR(16)  NOT NULL,
			invite_at   BIGINT       NOT NULL,
			ring_at     BIGINT       NOT NULL,
			answer_at   BIGINT       NOT NULL,
			end_at      BIGINT       NOT NULL,
			duration    DOUBLE PRECISION NOT NULL,
			code        INTEGER      NOT NULL,
			reason      TEXT         NOT NULL,
			disposition VARCHAR(16)  NOT NULL,
			missed      INTEGER      NOT NULL,
			hangup_by   VARCHAR(16)  NOT NULL,
			targets     TEXT         NOT NULL,
			referred_by TEXT         NOT NULL,
			transfer_to TEXT         NOT NULL,
			PRIMARY KEY (id))` + options,
		`CREATE INDEX cdr_invite_at ON cdr (invite_at)`,
		`CREATE INDEX cdr_caller ON cdr (caller, invite_at)`,
		`CREATE INDEX cdr_callee ON cdr (callee, invite_at)`,
	}
}
