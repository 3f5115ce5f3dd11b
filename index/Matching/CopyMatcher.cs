using System.Security.Cryptography;
using System.Text;
using LeakHunter.Index.Hashing;
using LeakHunter.Index.Imaging;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Finds which registered original a picture is a copy of, and what was done to it.
/// <list type="number">
/// <item>Exact: SHA-256 of the bytes (score 1).</item>
/// <item>Candidates, from three sources taken in turn (see <see cref="Interleave"/>): votes of the query's
/// ORB descriptors in a multi-index hash of every original's descriptors; the
/// embedding model's nearest windows in the vector index (when the matcher has one, see
/// <see cref="EmbeddingCandidates"/>); PDQ of the query and its mirror against each original's
/// whole picture and sub-windows at three scales.</item>
/// <item>Verification, of candidates whose evidence is above chance (<see cref="VoteRankAboveChance"/>):
/// ratio-tested descriptor matches, RANSAC homography, plausibility checks (orientation-preserving,
/// bounded scale, stretch and perspective), distinct inliers counted, and the evidence must cover the picture (see <see cref="Verification.Supported"/>): the inliers spread
/// over the region of the original the query shows, or the pixels agree over most of it
/// (<see cref="PixelAgreement"/>), and the pixels never contradict it. A logo or caption that
/// different photos share is no copy; a copy whose sticker hides the detailed part still is.</item>
/// <item>Without corners: a query that shows the original's whole frame (resized, stretched, recoloured,
/// captioned, in a plain border, under one sticker) is compared with it cell by cell instead
/// (<see cref="Verifier.SameFrame"/>).</item>
/// <item>Decision: the distinct-inlier count (times, from a dozen inliers on, the chance that as many
/// cells agree by accident), or the whole frame's cell agreement, is turned into a false-match probability by <see cref="MatchCalibration"/>;
/// a match is reported when it is at most <see cref="MatcherOptions.TargetFalseMatchRate"/>. Hashes alone never decide, so flat, tiny
/// or text-only pictures (which have no stable local features) never match except byte for byte.</item>
/// <item>A query that matches nothing as a whole is searched for pictures inside it (a screenshot of a page,
/// <see cref="PictureRegions"/>), and each is matched on its own.</item>
/// </list>
/// Thread-safe: any number of concurrent <see cref="Match"/> calls; registration excludes them
/// only while the new fingerprint is inserted.
/// </summary>
public sealed class CopyMatcher : IDisposable
{
    /// <summary>Long side of the frame originals are fingerprinted in.</summary>
    internal const int OriginalLongSide = 800;
    /// <summary>Long side of the copy sub-window hashes are computed on (its smallest windows keep 128 pixels).</summary>
    internal const int WindowHashLongSide = 256;
    /// <summary>Longest side a query is described at: a larger one is brought down to it before its features are detected.</summary>
    internal const int QueryLongSide = 640;
    /// <summary>
    /// Long side a picture found inside a page is brought up to. The page was decoded at reduced scale, so the
    /// picture in it is often smaller than it was published (a 420-px forum photo is 210 px of a 640-px page).
    /// A whole query is described at its own size: enlarging it adds no detail, only corners of its blur, and
    /// on the dev set at 10 000 originals describing queries as they are kept recall (738 of 750 against 737)
    /// while unrelated (mostly small) pictures took a third less time.
    /// </summary>
    internal const int RegionMinLongSide = 480;
    internal const int OriginalFeatures = 1000;
    /// <summary>
    /// Features detected on a query, all of them spread evenly over a 4x4 grid: a sticker, caption or
    /// frame pasted on a copy is often its most detailed part and would otherwise take the budget
    /// that the visible rest of the original needs.
    /// </summary>
    internal const int QueryFeatures = 1500;
    internal const double QueryCellShare = 1.0;
    /// <summary>FAST threshold: low, because equalised soft gradients (wallpapers) have weak corners.</summary>
    internal const int FastThreshold = 7;

    /// <summary>Gray picture for feature detection (contrast-limited equalisation brings out soft structure).</summary>
    internal static Mat FeatureGray(Mat bgr)
    {
        using var gray = Gray(bgr);
        return Equalised(gray);
    }

    /// <summary>The picture in gray (luma as OpenCV converts it); the query's thumbnail is made from it too.</summary>
    internal static Mat Gray(Mat bgr)
    {
        var gray = new Mat();
        Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
        return gray;
    }

    /// <summary>The gray picture as <see cref="FeatureGray"/> equalises it: OpenCV's CLAHE (clip limit 2, 8x8 tiles), see <see cref="Clahe"/>.</summary>
    internal static Mat Equalised(Mat gray) => Clahe.Apply(gray);
    /// <summary>
    /// Distance, of the <see cref="DescriptorIndex.CheckBits"/> compared besides the key, up to which a bucket hit
    /// votes: one corner's descriptors in a copy and in its original lie within about 50 of their 256 bits, so
    /// within about 19 of any 96 of them. Chosen on the dev set: it ranks the true original among the first six
    /// as often as comparing all 256 bits did (715 and 713 of 750 queries with 10 000 originals, 735 and 734
    /// with 50); 14 lost some (708), 18 let more chance votes in (712, and 733 with 50).
    /// </summary>
    private const int VoteMaxDistance = 16;
    private const int MinVotes = 4;
    /// <summary>
    /// Votes use every second descriptor of the query and of each original: candidates only need a
    /// ranking, a quarter of the pairs rank as well, and voting time (which grows with the number of
    /// registered descriptors) drops fourfold. Verification uses all of them.
    /// </summary>
    private const int VoteStride = 2;
    private const int MaxVerifications = 6;
    private const int PdqCandidateDistance = 80;
    private const int EmbeddingCandidateCount = 3;

    /// <summary>
    /// Local features are matched (descriptor matching and RANSAC, most of a non-matching query's time) only
    /// against candidates whose evidence is above what unrelated pictures reach: every query's sources name
    /// candidates, but for a picture of something else they are the luckiest of the registered originals.
    /// On the dev set with 10 000 originals, unrelated queries' best vote rank is 0.26 at the median and their
    /// best embedding similarity 0.47, while the originals that copies matched on inliers had a vote rank of at
    /// least 0.35 or a similarity of at least 0.6 (or a PDQ window within <see cref="PdqCandidateDistance"/>,
    /// which unrelated pictures seldom have); the bounds are that floor. Unrelated queries then have local features
    /// matched against about 0.75 candidates instead of 5.5 (1.1 with bounds of 0.3 and 0.55, a tenth more time per
    /// unrelated query), and recall stays the same on the dev set with 50 and with 10 000 originals and on the family
    /// sets built from other pictures (forum pages, screenshots, perspective). A candidate below
    /// them is still compared frame to frame (<see cref="Verifier.SameFrame"/>, cheap), since a flat picture
    /// under a sticker has neither votes nor a telling embedding.
    /// </summary>
    private const double VoteRankAboveChance = 0.35;
    private const float EmbeddingSimilarityAboveChance = 0.6f;

    private readonly MatcherOptions _options;
    private readonly string? _directory;
    private readonly MatchCalibration _calibration;
    private readonly EmbeddingCandidates? _embeddings;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, OriginalEntry> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _bySha = new(StringComparer.Ordinal);
    private List<OriginalEntry?> _bySlot = [];
    private DescriptorIndex _index = new();
    private WindowHashTable _windowHashes = new();
    private readonly object _writeGate = new();
    private bool _disposed;

    public CopyMatcher(MatcherOptions options, string? storageDirectory, EmbeddingCandidates? embeddings = null)
        : this(options, storageDirectory, MatchCalibration.Default, embeddings)
    {
    }

    /// <param name="embeddings">The embedding model and vector index as a source of candidates; without it
    /// candidates come from local-feature votes and PDQ windows only.</param>
    public CopyMatcher(MatcherOptions options, string? storageDirectory, MatchCalibration calibration, EmbeddingCandidates? embeddings = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _calibration = calibration;
        _embeddings = embeddings;
        _directory = storageDirectory;
        if (_directory is not null)
        {
            Directory.CreateDirectory(_directory);
            Load();
        }
    }

    public MatcherOptions Options => _options;
    public MatchCalibration Calibration => _calibration;

    /// <summary>Smallest number of distinct inliers accepted at the configured false-match rate.</summary>
    public int InlierThreshold => _calibration.Threshold(_options.TargetFalseMatchRate);

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _byId.Count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    public IReadOnlyList<string> OriginalIds
    {
        get
        {
            _lock.EnterReadLock();
            try { return _byId.Keys.Order(StringComparer.Ordinal).ToArray(); }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Approximate memory held by the fingerprints and the descriptor index, in bytes.</summary>
    public long ApproximateBytes
    {
        get
        {
            _lock.EnterReadLock();
            try { return _byId.Values.Sum(e => e.ApproximateBytes) + _index.ApproximateBytes + _windowHashes.ApproximateBytes; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Fingerprints and stores an original; re-registering an id replaces it.</summary>
    public OriginalFingerprint Register(string originalId, byte[] imageBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(originalId);
        ArgumentNullException.ThrowIfNull(imageBytes);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var entry = Fingerprint(originalId, imageBytes);
        lock (_writeGate)
        {
            if (_directory is not null)
                WriteAtomically(PathFor(originalId), entry.Serialize());
            Insert(entry);
            StoreEmbeddings([entry]);
        }
        return entry.ToFingerprint();
    }

    public bool Remove(string originalId)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_writeGate)
        {
            bool removed;
            _lock.EnterWriteLock();
            try { removed = RemoveLocked(originalId); }
            finally { _lock.ExitWriteLock(); }
            _embeddings?.Remove(originalId);
            if (_directory is not null)
            {
                var path = PathFor(originalId);
                if (File.Exists(path))
                {
                    File.Delete(path);
                    removed = true;
                }
            }
            return removed;
        }
    }

    /// <summary>The fingerprint summary of a registered original, or null.</summary>
    public OriginalFingerprint? Get(string originalId)
    {
        _lock.EnterReadLock();
        try { return _byId.TryGetValue(originalId, out var e) ? e.ToFingerprint() : null; }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// The best decided match of a query, or null. Throws <see cref="ImageRejectedException"/> for bad input.
    /// <paramref name="isEligible"/>, when given, limits the answer to some originals (one workspace's):
    /// others are never candidates, so they can neither be reported nor hide an eligible match.
    /// </summary>
    public MatchResult? Match(byte[] queryBytes, Func<string, bool>? isEligible = null) => Explain(queryBytes, isEligible).Match;

    /// <summary>Like <see cref="Match"/>, with the best evidence found even when it did not reach the threshold.</summary>
    public MatchDiagnostics Explain(byte[] queryBytes, Func<string, bool>? isEligible = null)
    {
        isEligible ??= _ => true;
        ArgumentNullException.ThrowIfNull(queryBytes);
        ObjectDisposedException.ThrowIf(_disposed, this);
        string sha = Sha256Hex(queryBytes);
        _lock.EnterReadLock();
        try
        {
            if (_bySha.TryGetValue(sha, out var exactId) && isEligible(exactId))
                return new MatchDiagnostics(new MatchResult(exactId, 1.0, null, null, sha), exactId, int.MaxValue, 0);
        }
        finally { _lock.ExitReadLock(); }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var decoded = ImageDecoder.Decode(queryBytes, _options.MaxPixels, QueryLongSide);
        double decodeMs = clock.Elapsed.TotalMilliseconds;
        var whole = ExplainDecoded(decoded, sha, isEligible, decodeMs, minLongSide: 0);
        if (whole.Match is not null)
            return whole;
        // A picture inside a page (a screenshot of a forum): matched on its own, where the page's text
        // no longer outnumbers its corners.
        var pageClock = System.Diagnostics.Stopwatch.StartNew();
        var regions = PictureRegions.Find(decoded.Bgr);
        double toFull = decoded.ScaleToFull;
        // The outcome with the page search's time (the stages stay the whole query's) and the regions found.
        MatchDiagnostics WithPageSearch(MatchDiagnostics d) => d with
        {
            RegionsTried = regions.Count,
            Timings = whole.Timings is { } t ? t with { PagesMs = pageClock.Elapsed.TotalMilliseconds } : null,
        };
        foreach (var region in regions)
        {
            var inQuery = new Rect((int)Math.Round(region.X * toFull), (int)Math.Round(region.Y * toFull),
                (int)Math.Round(region.Width * toFull), (int)Math.Round(region.Height * toFull));
            using var view = new Mat(decoded.Bgr, region);
            using var crop = new DecodedImage(view.Clone(), decoded.Header, inQuery.Width, inQuery.Height);
            var inside = ExplainDecoded(crop, sha, isEligible, decodeMs, RegionMinLongSide);
            if (inside.Match is { Homography: { } h } m)
            {
                // The region's homography starts at the region's corner: shift it to the whole query's.
                var shift = new double[] { 1, 0, -region.X * toFull, 0, 1, -region.Y * toFull, 0, 0, 1 };
                return WithPageSearch(inside with
                {
                    Match = m with { Homography = Verifier.Mul(h, shift) },
                    Region = [inQuery.X, inQuery.Y, inQuery.Width, inQuery.Height],
                });
            }
        }
        return WithPageSearch(whole);
    }

    /// <summary>The matching pipeline on a decoded query (the whole query or a picture inside it, enlarged to at least <paramref name="minLongSide"/>).</summary>
    private MatchDiagnostics ExplainDecoded(DecodedImage decoded, string sha, Func<string, bool> isEligible, double decodeMs, int minLongSide)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double Now() => decodeMs + clock.Elapsed.TotalMilliseconds; // stage times count from the start of decoding
        if (decoded.FullWidth < 32 || decoded.FullHeight < 32)
            return new MatchDiagnostics(null, null, 0, 0); // too small to carry evidence
        // A query with few or no corners goes on: its candidates come from the embedding and PDQ, and only
        // whole-frame evidence over detailed cells can decide for it (a flat or smooth picture has none).
        using var query = QueryView.Create(decoded, minLongSide);
        double featuresMs = Now();

        double embeddingMs, votesMs;
        var embedded = _embeddings?.Search(_embeddings.EmbedQuery(decoded.Bgr), EmbeddingCandidateCount, isEligible) ?? [];
        List<Candidate> ordered;
        _lock.EnterReadLock();
        try
        {
            embeddingMs = Now() - featuresMs;
            var votes = VoteCandidates(query, isEligible);
            votesMs = Now() - featuresMs - embeddingMs;
            ordered = Interleave([votes, EmbeddingHits(embedded), HashCandidates(query, isEligible)]);
        }
        finally { _lock.ExitReadLock(); }
        double candidatesMs = Now();

        Verification? best = null, bestUnspread = null;
        OriginalEntry? bestEntry = null, bestUnspreadEntry = null;
        int verified = 0;
        bool overwhelming = false;
        foreach (var (entry, mirror, _, aboveChance, round) in ordered)
        {
            // Overwhelming evidence (see below) ends the search once every source's best candidate has been
            // verified: a picture that shares a design with the copy's original (the same wallpaper in other
            // colours) can collect the most votes, and then the embedding's first candidate is the original itself.
            if (verified >= MaxVerifications || overwhelming && round > 0)
                break;
            verified++;
            var v = aboveChance ? Verifier.Verify(mirror ? query.MirrorFeatures : query.Features, query.Width, query.Height, entry) : null;
            if (v is not null && v.DistinctInliers >= 8 && Verifier.Agreement(v, mirror, query, entry) is { } agreement)
                v = v with { AgreeingCells = agreement.Agreeing, AgreementCells = agreement.Judged };
            var supported = v is { Supported: true } ? v : null;
            if (!(supported is not null && FalseMatchProbability(supported) <= _options.TargetFalseMatchRate)
                && Verifier.SameFrame(mirror, query, entry) is { } frame
                && (supported is null || FalseMatchProbability(frame) < FalseMatchProbability(supported)))
                v = frame; // too few corners for inliers, but the whole frame agrees (stripes, fine texture)
            if (v is not null && !v.Supported)
            {
                // evidence concentrated on a small part of the original (a shared logo or caption),
                // or pixels that contradict it: kept for diagnostics only
                if (bestUnspread is null || v.DistinctInliers > bestUnspread.DistinctInliers)
                    (bestUnspread, bestUnspreadEntry) = (v, entry);
                continue;
            }
            if (v is not null && (best is null || FalseMatchProbability(v) < FalseMatchProbability(best)))
            {
                best = v with { Mirror = mirror };
                bestEntry = entry;
                // Overwhelming evidence that the pixels confirm: nothing else can beat it meaningfully. Many inliers
                // alone are not enough: two screenshots of one application window share its frame, sidebar and
                // buttons, and the next candidate may be the picture itself.
                overwhelming = best.DistinctInliers >= 4 * InlierThreshold && best.Agreement >= PixelAgreement.Confirmation;
            }
        }
        var timings = new MatchTimings(decodeMs, featuresMs - decodeMs, candidatesMs - featuresMs, Now() - candidatesMs)
        {
            EmbeddingMs = embeddingMs,
            VotesMs = votesMs,
        };
        var candidateNames = ordered.Take(12).Select(c => $"{c.Entry.Id}{(c.Mirror ? "/m" : "")}:{c.Evidence}{(c.AboveChance ? "" : "~")}").ToArray();
        MatchDiagnostics Diagnostics(MatchResult? match, OriginalEntry? entry, Verification? evidence) =>
            new(match, entry?.Id, evidence?.DistinctInliers ?? 0, verified, evidence?.Coverage ?? 0, evidence?.Cells ?? 0)
            {
                Agreement = evidence?.Agreement,
                Timings = timings,
                Candidates = candidateNames,
            };

        if (best is null || bestEntry is null)
            return Diagnostics(null, bestUnspreadEntry, bestUnspread);
        double p = FalseMatchProbability(best);
        if (p > _options.TargetFalseMatchRate)
            return Diagnostics(null, bestEntry, best);

        var (transform, homography) = Verifier.Describe(best, query, decoded, bestEntry);
        double score = MatchCalibration.Score(p, _options.TargetFalseMatchRate);
        return Diagnostics(new MatchResult(bestEntry.Id, score, transform, homography, sha), bestEntry, best);
    }

    /// <summary>Inliers alone, inliers corroborated by agreeing pixels, or whole-frame pixel agreement (see <see cref="MatchCalibration"/>).</summary>
    private double FalseMatchProbability(Verification v) =>
        v.FrameFalseMatchProbability ?? _calibration.FalseMatchProbability(v.DistinctInliers, v.AgreeingCells, v.AgreementCells);

    /// <summary>
    /// A candidate for verification, the evidence that put it forward (for diagnostics), whether that evidence
    /// is above chance (see <see cref="VoteRankAboveChance"/>), and its rank in the source that named it first
    /// (0: some source's best; set by <see cref="Interleave"/>).
    /// </summary>
    private readonly record struct Candidate(OriginalEntry Entry, bool Mirror, string Evidence, bool AboveChance, int Round = 0);

    /// <summary>
    /// Verification order: the best of each source in turn (votes, embedding, hashes), then the
    /// second of each, and so on, without repeats. Each source fails on different edits (votes on
    /// low-detail pictures, hashes on crops, the embedding on pictures that look alike), and their
    /// scores are not comparable, so none may crowd out another's best.
    /// </summary>
    private static List<Candidate> Interleave(IReadOnlyList<IReadOnlyList<Candidate>> sources)
    {
        var ordered = new List<Candidate>();
        var position = new Dictionary<(string, bool), int>();
        for (int rank = 0; sources.Any(s => rank < s.Count); rank++)
            foreach (var source in sources)
            {
                if (rank >= source.Count)
                    continue;
                var candidate = source[rank];
                var key = (candidate.Entry.Id, candidate.Mirror);
                if (!position.TryGetValue(key, out int at))
                {
                    position[key] = ordered.Count;
                    ordered.Add(candidate with { Round = rank });
                }
                else if (candidate.AboveChance && !ordered[at].AboveChance)
                    ordered[at] = ordered[at] with { AboveChance = true }; // another source vouches for it
            }
        return ordered;
    }

    /// <summary>
    /// Originals sharing the most ORB descriptors with the query, normalised by their descriptor count. The query
    /// votes as it is, not also mirrored: mirrored copies are named by the embedding's mirrored windows and the
    /// mirror PDQ (a flipped copy keeps the whole picture, which both see), and the mirror's descriptors, computed
    /// and voted for every query, cost a sixth of a non-matching query's time.
    /// </summary>
    private List<Candidate> VoteCandidates(QueryView query, Func<string, bool> isEligible) =>
        _index.Vote(EveryNth(query.Features.Descriptors, VoteStride), VoteMaxDistance, MinVotes, MaxVerifications,
                slot => _bySlot[slot] is { } e && isEligible(e.Id))
            .Select(r => new Candidate(_bySlot[r.Slot]!, Mirror: false, $"v{r.Votes}r{r.Rank:0.00}", r.Rank >= VoteRankAboveChance))
            .ToList();

    private List<Candidate> EmbeddingHits(IReadOnlyList<(string OriginalId, bool Mirror, float Similarity)> hits) =>
        hits.Where(h => _byId.ContainsKey(h.OriginalId))
            .Select(h => new Candidate(_byId[h.OriginalId], h.Mirror, $"e{h.Similarity:0.00}", h.Similarity >= EmbeddingSimilarityAboveChance))
            .ToList();

    /// <summary>PDQ of the query (and its mirror) against every original's whole picture and sub-windows.</summary>
    private List<Candidate> HashCandidates(QueryView query, Func<string, bool> isEligible)
    {
        var (nearest, nearestMirror) = _windowHashes.Nearest(query.Pdq, query.PdqMirror, PdqCandidateDistance);
        return nearest.Select(n => (Slot: n.Key, Mirror: false, Distance: n.Value))
            .Concat(nearestMirror.Select(n => (Slot: n.Key, Mirror: true, Distance: n.Value)))
            .Where(r => _bySlot[r.Slot] is { } e && isEligible(e.Id))
            .OrderBy(r => r.Distance)
            .Take(3)
            .Select(r => new Candidate(_bySlot[r.Slot]!, r.Mirror, $"p{r.Distance}", AboveChance: true))
            .ToList();
    }

    private static byte[] EveryNth(byte[] descriptors, int n)
    {
        int count = descriptors.Length / FeatureSet.DescriptorBytes, kept = (count + n - 1) / n;
        var result = new byte[kept * FeatureSet.DescriptorBytes];
        for (int i = 0; i < kept; i++)
            Buffer.BlockCopy(descriptors, i * n * FeatureSet.DescriptorBytes, result, i * FeatureSet.DescriptorBytes, FeatureSet.DescriptorBytes);
        return result;
    }

    /// <summary>Puts the window embeddings of freshly registered or loaded originals into the vector index, then drops them from memory.</summary>
    private void StoreEmbeddings(IReadOnlyList<OriginalEntry> entries)
    {
        if (_embeddings is null)
            return;
        _embeddings.Add(entries.Where(e => e.EmbeddingModel == _embeddings.ModelId && e.WindowEmbeddings is not null)
            .Select(e => (e.Id, e.WindowEmbeddings!)));
        foreach (var e in entries)
            e.WindowEmbeddings = null;
    }

    private OriginalEntry Fingerprint(string id, byte[] bytes)
    {
        using var decoded = ImageDecoder.Decode(bytes, _options.MaxPixels, OriginalLongSide);
        if (decoded.FullWidth < 16 || decoded.FullHeight < 16)
            throw new ImageRejectedException($"Image too small to protect: {decoded.FullWidth}x{decoded.FullHeight}.");
        using var norm = Resize(decoded.Bgr, OriginalLongSide, 0);
        using var gray = FeatureGray(norm);
        var features = FeatureSet.Detect(gray, OriginalFeatures, FastThreshold);

        var windows = new List<WindowRect> { new(0, 0, norm.Width, norm.Height) };
        foreach (double s in new[] { 0.5, 0.7, 0.85 })
        {
            int ww = (int)Math.Round(norm.Width * s), wh = (int)Math.Round(norm.Height * s);
            var xs = Positions(norm.Width, ww);
            var ys = Positions(norm.Height, wh);
            foreach (int y in ys)
                foreach (int x in xs)
                    windows.Add(new WindowRect(x, y, ww, wh));
        }
        var wPdq = new Hash256[windows.Count];
        var wPh = new ulong[windows.Count];
        // Window hashes come from a small copy: both hashes reduce a window to 64x64 (PDQ) or 32x32
        // (pHash) anyway, and hashing every window at full size would be most of the registration time.
        using var small = Resize(norm, WindowHashLongSide, 0);
        double toSmall = (double)small.Width / norm.Width;
        for (int i = 0; i < windows.Count; i++)
        {
            var r = windows[i];
            int sx = (int)Math.Round(r.X * toSmall), sy = (int)Math.Round(r.Y * toSmall);
            int sw = Math.Min(small.Width - sx, Math.Max(1, (int)Math.Round(r.W * toSmall)));
            int sh = Math.Min(small.Height - sy, Math.Max(1, (int)Math.Round(r.H * toSmall)));
            using var roi = new Mat(small, new Rect(sx, sy, sw, sh));
            wPdq[i] = Pdq.Compute(roi).Hash;
            wPh[i] = PHash.Compute(roi);
        }
        using var mirror = new Mat();
        Cv2.Flip(norm, mirror, FlipMode.Y);
        using var thumbnail = PixelAgreement.Thumbnail(norm);
        thumbnail.GetArray(out byte[] thumbnailBytes);
        return new OriginalEntry
        {
            Thumbnail = thumbnailBytes,
            ThumbnailWidth = thumbnail.Width,
            ThumbnailHeight = thumbnail.Height,
            WindowEmbeddings = _embeddings?.EmbedWindows(norm),
            EmbeddingModel = _embeddings?.ModelId,
            Id = id,
            Sha256 = Sha256Hex(bytes),
            Width = decoded.FullWidth,
            Height = decoded.FullHeight,
            NormScale = (double)decoded.FullWidth / norm.Width,
            NormWidth = norm.Width,
            NormHeight = norm.Height,
            Pdq = Pdq.Compute(norm),
            PdqMirror = Pdq.Compute(mirror),
            PHash = wPh[0],
            PHashMirror = PHash.Compute(mirror),
            Windows = [.. windows],
            WindowPdq = wPdq,
            WindowPHash = wPh,
            Features = features,
        };
    }

    private static int[] Positions(int total, int size)
    {
        double step = total * 0.125;
        var list = new List<int>();
        for (double p = 0; p + size <= total + 0.5; p += step)
            list.Add(Math.Min((int)Math.Round(p), total - size));
        if (list.Count == 0 || list[^1] != total - size)
            list.Add(total - size);
        return [.. list.Distinct()];
    }

    /// <summary>Resizes so the long side is at most maxLong and (when minLong &gt; 0) at least minLong.</summary>
    internal static Mat Resize(Mat src, int maxLong, int minLong)
    {
        int longSide = Math.Max(src.Width, src.Height);
        double s = longSide > maxLong ? (double)maxLong / longSide : minLong > 0 && longSide < minLong ? (double)minLong / longSide : 1.0;
        if (s == 1.0)
            return src.Clone();
        var dst = new Mat();
        int w = Math.Max(1, (int)Math.Round(src.Width * s)), h = Math.Max(1, (int)Math.Round(src.Height * s));
        Cv2.Resize(src, dst, new Size(w, h), 0, 0, s < 1 ? InterpolationFlags.Area : InterpolationFlags.Cubic);
        return dst;
    }

    private void Insert(OriginalEntry entry)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(entry.Id);
            entry.Slot = _index.Add(EveryNth(entry.Features.Descriptors, VoteStride));
            _windowHashes.Add(entry.Slot, entry.WindowPdq);
            while (_bySlot.Count <= entry.Slot) _bySlot.Add(null);
            _bySlot[entry.Slot] = entry;
            _byId[entry.Id] = entry;
            _bySha[entry.Sha256] = entry.Id;
            if (_index.NeedsCompaction)
                Compact();
        }
        finally { _lock.ExitWriteLock(); }
    }

    private bool RemoveLocked(string id)
    {
        if (!_byId.Remove(id, out var old))
            return false;
        if (_bySha.TryGetValue(old.Sha256, out var owner) && owner == id)
        {
            _bySha.Remove(old.Sha256);
            // another original with the same bytes keeps the exact route
            foreach (var other in _byId.Values)
                if (other.Sha256 == old.Sha256) { _bySha[old.Sha256] = other.Id; break; }
        }
        _index.Remove(old.Slot);
        if (old.Slot >= 0 && old.Slot < _bySlot.Count)
            _bySlot[old.Slot] = null;
        return true;
    }

    private void Compact()
    {
        var index = new DescriptorIndex();
        var windowHashes = new WindowHashTable();
        var bySlot = new List<OriginalEntry?>();
        foreach (var e in _byId.Values)
        {
            e.Slot = index.Add(EveryNth(e.Features.Descriptors, VoteStride));
            windowHashes.Add(e.Slot, e.WindowPdq);
            bySlot.Add(e);
        }
        _index = index;
        _windowHashes = windowHashes;
        _bySlot = bySlot;
    }

    private string PathFor(string id) =>
        Path.Combine(_directory!, Convert.ToHexStringLower(Encoding.UTF8.GetBytes(id)) + ".fp");

    private static void WriteAtomically(string path, byte[] content)
    {
        var tmp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
                File.Delete(tmp);
        }
    }

    private void Load()
    {
        foreach (var tmp in Directory.EnumerateFiles(_directory!, "*.fp.tmp-*"))
        {
            try { File.Delete(tmp); } catch (IOException) { }
        }
        var loaded = new List<OriginalEntry>();
        foreach (var file in Directory.EnumerateFiles(_directory!, "*.fp").Order(StringComparer.Ordinal))
        {
            OriginalEntry entry;
            try
            {
                entry = OriginalEntry.Deserialize(File.ReadAllBytes(file));
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                continue; // an unreadable file is skipped, never half-loaded
            }
            Insert(entry);
            loaded.Add(entry);
        }
        if (_embeddings is null)
            return;
        // The vector index is rebuilt from the fingerprints when it does not hold exactly their windows
        // (deleted, or written by a crash between fingerprint and index); upserts are idempotent.
        long expected = loaded.Count(e => e.EmbeddingModel == _embeddings.ModelId && e.WindowEmbeddings is not null) * (long)Embedding.CopyWindows.Default.Count;
        if (_embeddings.Count == expected)
            loaded.ForEach(e => e.WindowEmbeddings = null);
        else
            foreach (var batch in loaded.Chunk(256))
                StoreEmbeddings(batch);
    }

    /// <summary>
    /// Originals whose fingerprint has no embeddings from the current model (registered before the
    /// model existed or under another one): they still match, but have no embedding candidates until
    /// they are registered again.
    /// </summary>
    public IReadOnlyList<string> IdsWithoutEmbeddings
    {
        get
        {
            if (_embeddings is null)
                return [];
            _lock.EnterReadLock();
            try { return _byId.Values.Where(e => e.EmbeddingModel != _embeddings.ModelId).Select(e => e.Id).ToArray(); }
            finally { _lock.ExitReadLock(); }
        }
    }

    internal static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _lock.Dispose();
    }
}

/// <summary>
/// The outcome of a match with the best evidence found (for benchmarks and calibration). Coverage and
/// Cells describe how the best evidence's inliers spread over the original (share of its detail in
/// supported cells of a 4x4 grid over the region the query shows, and the number of such cells).
/// </summary>
public sealed record MatchDiagnostics(MatchResult? Match, string? BestCandidate, int DistinctInliers, int Verifications, double Coverage = 0, int Cells = 0)
{
    /// <summary>Pixel agreement of the best evidence (see PixelAgreement), when measured.</summary>
    public double? Agreement { get; init; }

    /// <summary>Where the time went (null when the query stopped before verification).</summary>
    public MatchTimings? Timings { get; init; }

    /// <summary>When the match was found in a picture inside the query (a page, see PictureRegions): its rectangle in the query's pixels as [x, y, width, height].</summary>
    public int[]? Region { get; init; }

    /// <summary>Pictures found inside the query and matched on their own (0 when the whole query matched or it is no page).</summary>
    public int RegionsTried { get; init; }

    /// <summary>The best candidates in the order they were (or would have been) verified, as "id[/m]:evidence" (v: votes, then r: their rank, see DescriptorIndex.Vote; e: embedding similarity; p: PDQ distance).</summary>
    public IReadOnlyList<string> Candidates { get; init; } = [];
}

/// <summary>Milliseconds per stage of one match: decoding, query features and hashes, candidate search, verification.</summary>
public sealed record MatchTimings(double DecodeMs, double FeaturesMs, double CandidatesMs, double VerifyMs)
{
    /// <summary>Parts of <see cref="CandidatesMs"/>: embedding the query and searching the vector index; descriptor votes (the rest is PDQ windows).</summary>
    public double EmbeddingMs { get; init; }
    public double VotesMs { get; init; }

    /// <summary>Looking for pictures inside the query and matching each (after the whole query matched nothing); the stages above are the whole query's.</summary>
    public double PagesMs { get; init; }
}
