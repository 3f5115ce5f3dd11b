using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LeakHunter.Dashboard.Accounts;

/// <summary>
/// PBKDF2-HMAC-SHA256 with a random 16-byte salt, stored as
/// <c>pbkdf2-sha256$iterations$salt$hash</c> (base64), so the cost can grow later.
/// </summary>
public static class PasswordHasher
{
    public const int Iterations = 600_000; // OWASP's 2023 figure for PBKDF2-HMAC-SHA256
    public const int MinPasswordLength = 10;

    public static string Hash(string password, int iterations = Iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool Verify(string password, string record)
    {
        var parts = record.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var iterations))
            return false;
        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A hash to verify against when the user does not exist, so timing does not reveal usernames.</summary>
    public static readonly string Decoy = Hash("decoy-password-never-matches");

    public static string? CheckStrength(string? password) =>
        password is null || password.Length < MinPasswordLength ? $"a password has at least {MinPasswordLength} characters" : null;
}
