extension StringProtocol {
    /// The longest run of whole characters from the start whose UTF-8 takes at most `limit` bytes:
    /// for fields and file names measured in bytes, never cut inside a character.
    public func prefix(utf8Bytes limit: Int) -> SubSequence {
        var bytes = 0
        var end = startIndex
        while end < endIndex {
            let size = self[end].utf8.count
            guard bytes + size <= limit else { break }
            bytes += size
            end = index(after: end)
        }
        return self[startIndex..<end]
    }
}
