#!/usr/bin/env python3
"""Copies schema.sql into Sources/RecitalJobs/Schema.swift so the binary carries it (a test checks they agree)."""
import os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
schema = open(os.path.join(root, "schema.sql")).read()
swift = ('// Generated from schema.sql at the repository root by scripts/sync-schema.py; `JobStoreTests`\n'
         '// checks the two agree. To change the database, add a "-- migration N: name" section to\n'
         '// schema.sql and run the script.\n\n'
         'enum Schema {\n'
         '    /// The whole schema.sql, carried in the binary so the database never depends on the working directory.\n'
         '    static let sql = #"""\n' + schema + '\n"""#\n}\n')
open(os.path.join(root, "Sources", "RecitalJobs", "Schema.swift"), "w").write(swift)
