using System.Net;
using System.Net.Sockets;

namespace LeakHunter.Crawler.Fetching;

/// <summary>
/// Addresses a crawler must not reach on behalf of whoever named the URL: loopback, private,
/// link-local (cloud metadata lives there), carrier-grade NAT, unique-local, multicast and
/// unspecified ranges. Checked on the resolved address, at connect time, so DNS tricks and
/// redirects cannot route around it.
/// </summary>
public static class SsrfGuard
{
    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => true,                                   // 0.0.0.0/8 "this network"
                10 => true,                                  // 10.0.0.0/8
                100 => b[1] >= 64 && b[1] <= 127,            // 100.64.0.0/10 carrier-grade NAT
                127 => true,                                 // 127.0.0.0/8
                169 => b[1] == 254,                          // 169.254.0.0/16 link-local, cloud metadata
                172 => b[1] >= 16 && b[1] <= 31,             // 172.16.0.0/12
                192 => b[1] == 168 || (b[1] == 0 && b[2] == 0) || (b[1] == 0 && b[2] == 2), // 192.168/16, 192.0.0/24, TEST-NET-1
                198 => b[1] == 18 || b[1] == 19,             // 198.18.0.0/15 benchmarking
                >= 224 => true,                              // multicast, reserved, broadcast
                _ => false,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.Equals(IPAddress.IPv6Any)) return true;
            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast) return true;
            var b = address.GetAddressBytes();
            if ((b[0] & 0xFE) == 0xFC) return true;          // fc00::/7 unique-local (fd00:ec2::254 is AWS metadata)
            if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return true; // documentation
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) // 64:ff9b::/96 NAT64 of an IPv4 address
                return IsForbidden(new IPAddress(b[12..16]));
            return false;
        }
        return true;
    }
}

/// <summary>Thrown by the connect callback when every resolved address of a host is forbidden.</summary>
public sealed class ForbiddenAddressException(string host) : Exception($"refused: {host} resolves only to private or reserved addresses");
