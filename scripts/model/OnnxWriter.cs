using System.Text;

namespace LeakHunter.ModelBuilder;

/// <summary>Writes an ONNX ModelProto (protobuf wire format, the few fields needed) without any ONNX library.</summary>
public sealed class OnnxGraph
{
    private readonly List<byte[]> _nodes = new();
    private readonly List<byte[]> _initializers = new();
    private readonly List<byte[]> _inputs = new();
    private readonly List<byte[]> _outputs = new();
    private int _counter;

    public string Fresh(string hint) => $"{hint}_{_counter++}";

    public string Constant(string hint, float[] data, params long[] dims)
    {
        var name = Fresh(hint);
        var t = new Proto();
        foreach (var d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, 1); // FLOAT
        t.String(8, name);
        var raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        t.Bytes(9, raw);
        _initializers.Add(t.ToArray());
        return name;
    }

    public string ConstantInt64(string hint, long[] data)
    {
        var name = Fresh(hint);
        var t = new Proto();
        t.Varint(1, (ulong)data.Length);
        t.Varint(2, 7); // INT64
        t.String(8, name);
        var raw = new byte[data.Length * 8];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        t.Bytes(9, raw);
        _initializers.Add(t.ToArray());
        return name;
    }

    /// <summary>Adds a node; attributes: long, float, long[] or string values.</summary>
    public string Node(string op, string[] inputs, Dictionary<string, object>? attributes = null, string? output = null)
    {
        output ??= Fresh(op.ToLowerInvariant());
        var n = new Proto();
        foreach (var i in inputs) n.String(1, i);
        n.String(2, output);
        n.String(3, Fresh("n_" + op));
        n.String(4, op);
        foreach (var (key, value) in attributes ?? new())
        {
            var a = new Proto();
            a.String(1, key);
            switch (value)
            {
                case int i: a.Varint(3, (ulong)(long)i); a.Varint(20, 2); break;
                case long l: a.Varint(3, (ulong)l); a.Varint(20, 2); break;
                case float f: a.Fixed32(2, BitConverter.SingleToUInt32Bits(f)); a.Varint(20, 1); break;
                case long[] ls: foreach (var l in ls) a.Varint(8, (ulong)l); a.Varint(20, 7); break;
                case string s: a.Bytes(4, Encoding.UTF8.GetBytes(s)); a.Varint(20, 3); break;
                default: throw new ArgumentException($"attribute {key}: unsupported {value.GetType()}");
            }
            n.Message(5, a);
        }
        _nodes.Add(n.ToArray());
        return output;
    }

    public void Input(string name, params object[] dims) => _inputs.Add(ValueInfo(name, dims));
    public void Output(string name, params object[] dims) => _outputs.Add(ValueInfo(name, dims));

    private static byte[] ValueInfo(string name, object[] dims)
    {
        var shape = new Proto();
        foreach (var d in dims)
        {
            var dim = new Proto();
            if (d is string s) dim.String(2, s); else dim.Varint(1, (ulong)Convert.ToInt64(d));
            shape.Message(1, dim);
        }
        var tensor = new Proto();
        tensor.Varint(1, 1); // FLOAT
        tensor.Message(2, shape);
        var type = new Proto();
        type.Message(1, tensor);
        var vi = new Proto();
        vi.String(1, name);
        vi.Message(2, type);
        return vi.ToArray();
    }

    public byte[] ToModel(string graphName, int opset = 17)
    {
        var g = new Proto();
        foreach (var n in _nodes) g.Bytes(1, n);
        g.String(2, graphName);
        foreach (var i in _initializers) g.Bytes(5, i);
        foreach (var i in _inputs) g.Bytes(11, i);
        foreach (var o in _outputs) g.Bytes(12, o);
        var opsetId = new Proto();
        opsetId.String(1, "");
        opsetId.Varint(2, (ulong)opset);
        var m = new Proto();
        m.Varint(1, 8); // IR version
        m.String(2, "LeakHunter.ModelBuilder");
        m.String(3, "1");
        m.Message(7, g);
        m.Message(8, opsetId);
        return m.ToArray();
    }

    private sealed class Proto
    {
        private readonly MemoryStream _s = new();
        private void Tag(int field, int wire) => Raw((ulong)((field << 3) | wire));
        private void Raw(ulong v)
        {
            while (v >= 0x80) { _s.WriteByte((byte)(v | 0x80)); v >>= 7; }
            _s.WriteByte((byte)v);
        }
        public void Varint(int field, ulong v) { Tag(field, 0); Raw(v); }
        public void Fixed32(int field, uint v) { Tag(field, 5); Span<byte> b = stackalloc byte[4]; BitConverter.TryWriteBytes(b, v); _s.Write(b); }
        public void Bytes(int field, byte[] b) { Tag(field, 2); Raw((ulong)b.Length); _s.Write(b); }
        public void String(int field, string s) => Bytes(field, Encoding.UTF8.GetBytes(s));
        public void Message(int field, Proto p) => Bytes(field, p.ToArray());
        public byte[] ToArray() => _s.ToArray();
    }
}
