-- The WhatsApp 24-hour window is read per send from the latest inbound message of the chat.
create index inbound_messages_chat_idx on inbound_messages (channel, chat_address, received_at);
