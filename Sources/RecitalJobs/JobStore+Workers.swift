internal import Foundation
internal import GRDB
public import RecitalModel

/// The processes working on the table, so that a dead one is noticed at once on its machine.
extension JobStore {
    public func registerWorker(id: String, pid: Int32, host: String) async throws(JobError) {
        let time = now()
        try await write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO workers (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, pid, host, time, time]
            )
        }
    }

    public func removeWorker(id: String) async throws(JobError) {
        try await write { db in try db.execute(sql: "DELETE FROM workers WHERE id = ?", arguments: [id]) }
    }
}
