namespace LeakHunter.Index.Imaging;

/// <summary>
/// Why an image was refused: the bytes are not a supported image, the file is truncated or corrupt,
/// or its header announces more pixels than the configured budget. The message is one line meant
/// for the user (API problem details, CLI error).
/// </summary>
public sealed class ImageRejectedException(string message, Exception? inner = null) : Exception(message, inner);
