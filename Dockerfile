# LeakHunter node image: one executable, `leakhunter`, that runs a standalone node (default),
# a cluster silo (`silo --redis HOST:PORT`) or the dashboard as a cluster client (`dashboard --redis HOST:PORT`).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish silo-host/LeakHunter.SiloHost.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# OpenCV's native library (OpenCvSharp4.official.runtime.linux-x64) needs GTK 3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgtk-3-0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV LEAKHUNTER__DataDirectory=/data
VOLUME /data
EXPOSE 5080 11111 30000
ENTRYPOINT ["dotnet", "leakhunter.dll"]
