/// One forward step's work: the tokens of many sequences concatenated into T rows.
///
/// Decode steps contribute one row per running sequence, prefill chunks many; every weight
/// matrix is read once for all T rows. Attention runs per sequence over its own block table.
/// Reuse one Batch across steps (`removeAll()` keeps capacity) so steps do not allocate.
public struct Batch {
    /// [T] token ids
    public var tokens: [Int] = []
    /// [T] position of each token within its sequence
    public var positions: [Int32] = []
    /// The sequences whose rows make up the batch, each a contiguous run of rows.
    public var sequences: [Sequence] = []

    public struct Sequence {
        /// Rows of this sequence in the batch.
        public var rows: Range<Int>
        /// KV cache block ids of this sequence, in position order; must cover every position in `rows`.
        public var blockTable: [Int32]
        /// Whether to compute logits for the last row (only sequences that will sample need them).
        public var wantsLogits: Bool
        /// The rows are generated tokens being fed back (decode), not prompt tokens. Decode rows
        /// multiply float activations; prompt rows int8 ones (see WeightMatrix.multiply).
        public var isDecode: Bool

        public init(rows: Range<Int>, blockTable: [Int32], wantsLogits: Bool, isDecode: Bool = false) {
            self.rows = rows
            self.blockTable = blockTable
            self.wantsLogits = wantsLogits
            self.isDecode = isDecode
        }
    }

    public init() {}

    public var tokenCount: Int { tokens.count }
    public var logitsCount: Int { sequences.reduce(0) { $0 + ($1.wantsLogits ? 1 : 0) } }

    /// Appends `tokens` of one sequence starting at `startPosition`.
    public mutating func append(tokens newTokens: some Collection<Int>, startPosition: Int, blockTable: [Int32],
                                wantsLogits: Bool, isDecode: Bool = false) {
        let start = tokens.count
        tokens.append(contentsOf: newTokens)
        var p = Int32(startPosition)
        for _ in 0..<newTokens.count { positions.append(p); p += 1 }
        sequences.append(Sequence(rows: start..<tokens.count, blockTable: blockTable, wantsLogits: wantsLogits, isDecode: isDecode))
    }

    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
    }
}
