// The lab's bulk transfer in ns-3 (issue #18 item 6): one TCP CUBIC flow
// of 10 MB over a 10 Mbit/s bottleneck with 50 ms of round-trip
// propagation delay, a 42-packet drop-tail queue, SACK and timestamps on,
// random loss on both directions; no TLS and no HTTP. It prints the
// transfer's completion time (simulated) and its goodput.
//
// Built by build-ns3.sh against Debian's libns3-dev (ns-3.37). The
// parameters follow the lab's default network (docs/netsim.md): 25 ms each
// way, 1500-byte MTU, queue of one bandwidth-delay product, loss applied
// per packet on each link, seeded. ns-3.37's TCP has no RACK or TLP, so
// under loss it recovers more slowly than the lab's Linux-like TCP does.

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/traffic-control-module.h"

#include <cstdio>

using namespace ns3;

static Time g_done = Seconds(0);
static uint64_t g_received = 0;
static uint64_t g_size = 10000000;

static void
OnRx(Ptr<const Packet> packet, const Address&)
{
    g_received += packet->GetSize();
    if (g_received >= g_size && g_done.IsZero())
    {
        g_done = Simulator::Now();
        Simulator::Stop();
    }
}

int
main(int argc, char* argv[])
{
    double loss = 0.0;
    uint32_t seed = 1;
    uint32_t queue = 42;
    CommandLine cmd;
    cmd.AddValue("loss", "random loss in percent, each direction", loss);
    cmd.AddValue("seed", "run number of the RNG", seed);
    cmd.AddValue("size", "bytes to transfer", g_size);
    cmd.AddValue("queue", "bottleneck queue in packets", queue);
    cmd.Parse(argc, argv);

    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(seed);
    Config::SetDefault("ns3::TcpL4Protocol::SocketType", StringValue("ns3::TcpCubic"));
    Config::SetDefault("ns3::TcpSocketBase::Sack", BooleanValue(true));
    Config::SetDefault("ns3::TcpSocketBase::Timestamp", BooleanValue(true));
    Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
    Config::SetDefault("ns3::TcpSocket::InitialCwnd", UintegerValue(10));
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(4 << 20));
    Config::SetDefault("ns3::TcpSocket::RcvBufSize", UintegerValue(4 << 20));
    Config::SetDefault("ns3::TcpSocket::DelAckCount", UintegerValue(2));

    NodeContainer nodes;
    nodes.Create(2);
    PointToPointHelper link;
    link.SetDeviceAttribute("DataRate", StringValue("10Mbps"));
    link.SetChannelAttribute("Delay", StringValue("25ms"));
    link.SetQueue("ns3::DropTailQueue", "MaxSize",
                  QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, queue)));
    NetDeviceContainer devices = link.Install(nodes);

    if (loss > 0)
    {
        for (uint32_t i = 0; i < 2; ++i)
        {
            Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
            em->SetAttribute("ErrorRate", DoubleValue(loss / 100.0));
            em->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
            devices.Get(i)->SetAttribute("ReceiveErrorModel", PointerValue(em));
        }
    }

    InternetStackHelper stack;
    stack.Install(nodes);
    Ipv4AddressHelper addresses;
    addresses.SetBase("10.0.0.0", "255.255.255.0");
    Ipv4InterfaceContainer ifaces = addresses.Assign(devices);
    // The lab's links are plain drop-tail: no queue discipline on top (the
    // address assignment installed ns-3's default one).
    TrafficControlHelper tch;
    tch.Uninstall(devices);

    uint16_t port = 443;
    BulkSendHelper sender("ns3::TcpSocketFactory", InetSocketAddress(ifaces.GetAddress(1), port));
    sender.SetAttribute("MaxBytes", UintegerValue(g_size));
    sender.SetAttribute("SendSize", UintegerValue(16384));
    ApplicationContainer send = sender.Install(nodes.Get(0));
    send.Start(Seconds(0));
    PacketSinkHelper sink("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
    ApplicationContainer recv = sink.Install(nodes.Get(1));
    recv.Start(Seconds(0));
    recv.Get(0)->TraceConnectWithoutContext("Rx", MakeCallback(&OnRx));

    Simulator::Stop(Seconds(600));
    Simulator::Run();
    double secs = g_done.GetSeconds();
    if (g_done.IsZero())
    {
        std::printf("ns3 bulk: not finished after 600 s (%llu of %llu bytes)\n",
                    (unsigned long long)g_received, (unsigned long long)g_size);
        Simulator::Destroy();
        return 3;
    }
    std::printf("ns3 bulk: %llu bytes in %.6f s simulated, goodput %.3f Mbit/s\n",
                (unsigned long long)g_size, secs, g_size * 8.0 / secs / 1e6);
    Simulator::Destroy();
    return 0;
}
