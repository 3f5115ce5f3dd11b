using OpenCvSharp;

namespace LeakHunter.Index.Imaging;

/// <summary>Copies of a Mat's pixels (or descriptor rows) as managed bytes.</summary>
internal static class MatBytes
{
    /// <summary>All bytes of the Mat, row after row (a Mat that is a view into a larger one is made continuous first).</summary>
    public static byte[] Of(Mat m)
    {
        var bytes = new byte[m.Total() * m.ElemSize()];
        if (bytes.Length == 0)
            return bytes;
        using var continuous = m.IsContinuous() ? null : m.Clone();
        System.Runtime.InteropServices.Marshal.Copy((continuous ?? m).Data, bytes, 0, bytes.Length);
        return bytes;
    }
}
