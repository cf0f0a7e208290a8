// Engine methods of Ghost Attention synthesis and the adherence eval (sampling many dialogues).
export interface GattEngineMethods {}
