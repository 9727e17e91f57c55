%% The gen_server of sup_restart (announces itself to the driver from init,
%% stops on a `crash` cast) and call_rtt (echoes {echo, K} -> K).
-module(rusm_bench_srv).
-behaviour(gen_server).
-export([start_link/1, init/1, handle_call/3, handle_cast/2]).

start_link(Driver) ->
    gen_server:start_link(?MODULE, Driver, []).

init(Driver) when is_pid(Driver) ->
    Driver ! {started, self()},
    {ok, Driver};
init(none) ->
    {ok, none}.

handle_call({echo, K}, _From, S) -> {reply, K, S}.

handle_cast(crash, S) -> {stop, crash, S}.
